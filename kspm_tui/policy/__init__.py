"""From detecting to preventing: rules exported as admission policies, and tried offline.

`celenv` knows what CEL the API server provides per Kubernetes version; `export` turns rules
into ValidatingAdmissionPolicy + Binding (or Kyverno) documents; `admission` evaluates such
policies against manifests the way the API server would (`kspm-tui policy test`).
"""

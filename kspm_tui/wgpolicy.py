"""The PolicyReport contract kspm-tui writes (`-o policyreport`, the in-cluster reporter) and reads
(the fleet view): one definition, so the writer and the reader cannot drift apart."""

API_VERSION = "wgpolicyk8s.io/v1alpha2"
SOURCE = "kspm-tui"  # each result's `source`, and the managed-by label's value
MANAGED_BY = "app.kubernetes.io/managed-by"
SELECTOR = f"{MANAGED_BY}={SOURCE}"  # the label selector that lists our reports
CLUSTER_LABEL = "kspm-tui.io/cluster"
SCANNED_AT = "kspm-tui.io/scanned-at"  # RFC 3339 UTC: the scan a report's results come from
CONTENT_HASH = "kspm-tui.io/content-hash"  # the reporter's hash of what it wrote (never rewrite the same)

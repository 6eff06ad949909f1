"""Facts that span objects (namespaces, cluster, later RBAC, exposure, paths).

Rules read these as CEL variables instead of searching the snapshot themselves.
"""

"""Facts that span objects: namespaces, cluster, RBAC, exposure, network isolation, attack paths.

Rules read these as CEL variables instead of searching the snapshot themselves. For screens
and commands the entry point is `analysis.Analysis(snapshot)`, which builds each part lazily
once: `.rbac` (`RbacGraph`: `who_can(Request) -> list[Grant]`, `effective(subject)`,
`subjects()`), `.subject_facts(subject)`, `.attack_paths(internal=, target=) -> list[AttackPath]`
(pydantic, edges with object refs and evidence), `.exposure`, `.isolation`.
"""

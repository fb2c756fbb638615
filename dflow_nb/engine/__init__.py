"""The in-kernel engine: runs Argo manifests locally with Argo's semantics."""

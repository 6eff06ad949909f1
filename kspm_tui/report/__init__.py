"""Renderers of a ScanResult: each format is one module with `render(result) -> str`."""

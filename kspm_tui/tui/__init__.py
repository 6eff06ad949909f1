"""The explorer: a Textual app over scan results (imports the engine, never the reverse)."""

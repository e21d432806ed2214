"""Pure paper assembly: blueprint -> integer program -> forms (numpy, PuLP; no DB, no web)."""

"""One module per resource; each route loads, calls the services, commits once, returns a schema."""

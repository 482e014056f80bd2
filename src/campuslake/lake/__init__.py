"""The lake: zones on a URI-addressed filesystem, Delta tables and the catalog."""

"""S3 lake tests: a package, so its conftest does not replace the top-level `conftest` module."""

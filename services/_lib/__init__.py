"""Code shared by the service images (a change here redeploys every domain that builds with it)."""

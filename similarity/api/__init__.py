"""The search API under /api/v1/: views, their URLs, and the serializers that are its schema."""

"""storewatch: security analytics and response for retailers."""

__version__ = "0.1.0"

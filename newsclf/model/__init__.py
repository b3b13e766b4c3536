"""Models: features -> train -> evaluate -> predict."""

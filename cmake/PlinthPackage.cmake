# Packaging: filled in by its owner

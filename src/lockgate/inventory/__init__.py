"""Package inventory: which OS and language packages an image or file system contains."""

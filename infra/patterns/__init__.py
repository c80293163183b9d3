"""One construct per distributed-systems pattern, built from the shared constructs."""

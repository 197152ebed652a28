"""Generation: backends that make one segment from a seed frame, and the recursive loop."""

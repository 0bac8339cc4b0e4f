"""Re-evaluate resource checks when a probe finishes or a campaign spec changes."""

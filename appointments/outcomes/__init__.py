"""A petition from filing to resolution: the lifecycle, decisions, deadlines, follow-up, rating and review."""

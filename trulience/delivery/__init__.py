"""Delivery: scene assembly with smoothed seams, colour continuity, proxies, packages, specs."""

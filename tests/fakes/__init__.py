"""Test doubles for services the studio talks to (ComfyUI workers, ...)."""

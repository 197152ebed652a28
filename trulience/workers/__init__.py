"""ComfyUI worker pool: registration, health, capabilities, leases; hardware monitoring."""

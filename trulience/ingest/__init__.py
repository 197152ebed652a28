"""Getting characters into the library: inbox folder drops, CSV onboarding, validation."""

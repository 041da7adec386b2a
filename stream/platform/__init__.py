"""Facts about the platform itself for the Platform dashboard: dead letters counted per
minute, source topic and reason, and consumer lag sampled per group and partition."""

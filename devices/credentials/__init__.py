"""MQTT credentials of devices, engineers' phones and platform services, and the broker
configuration (Mosquitto password and ACL files) that enforces them."""

"""Field control by GPS: the pure core (geofence index, visit tracker, trip segmenter).

No database, Kafka or faust here: the stream agents feed positions in and publish the events.
"""

"""The suite uses tether's own pytest plugin (tether.testing): `tether_db` gives each
test a freshly migrated database of its own."""

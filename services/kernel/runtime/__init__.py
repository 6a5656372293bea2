"""The kernel's runtime part, for nameko services only (the gateway never imports it).

psycopg2 is made cooperative (psycogreen) when a service's Database sets up its engine, so tools
that import this package outside eventlet (migrations, seeding) keep plain blocking psycopg2.
"""

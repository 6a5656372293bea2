"""Developer tooling: bring up the local RabbitMQ and embedded PostgreSQL the services need."""

"""The staff desk: the key worker's phone view of handoffs and people, rendered from the
services' APIs. It owns no domain tables and decides nothing about who may see what: the
service that owns the data does, from the person the gateway names on each request."""

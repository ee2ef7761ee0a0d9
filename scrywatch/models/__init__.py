"""msgspec Structs: request bodies, records and responses. No I/O."""

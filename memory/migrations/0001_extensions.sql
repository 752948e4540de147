-- pgvector powers long-term memory (embeddings with an HNSW index).
CREATE EXTENSION IF NOT EXISTS vector;

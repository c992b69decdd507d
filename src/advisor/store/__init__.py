"""Store: embedding backends, the Chroma index kept incremental by LangChain's indexing API, and its snapshot."""

"""The usual Gradio entry point: `python app.py` serves the advisor at http://127.0.0.1:7860."""

from advisor.apps.ui import serve

if __name__ == "__main__":
    serve()

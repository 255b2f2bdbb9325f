# The app in a container: one Streamlit server per container, listening on 8501.
#   docker build -t vlb .
#   docker run -p 8501:8501 -e STREAMLIT_SERVER_COOKIE_SECRET="$(openssl rand -hex 32)" vlb
# Several replicas: see docs/deploy.md (sticky sessions, one shared cookie secret).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

# A user without privileges runs the server.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app
COPY --chown=app:app . .
USER app

EXPOSE 8501

# Streamlit answers "ok" on /_stcore/health once it serves; the slim image has no curl, so Python asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"

CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]

# Stage 1: build the front-end assets with Node.
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev
COPY static/src ./static/src
COPY static/build.mjs ./static/build.mjs
RUN npm run build

# Stage 2: a slim Python runtime, running as a user without privileges.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORTAL_ENV=production PORTAL_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY portal ./portal
# Editable, so the package finds templates/, roles/ and static/ beside it in /app.
RUN pip install --no-cache-dir -e .
COPY templates ./templates
COPY roles ./roles
COPY --from=assets /build/static/dist ./static/dist
RUN useradd --system --uid 10001 --home-dir /app portal && mkdir -p /data && chown portal /data
USER portal
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
# Migrations first, then uvicorn with workers (PORTAL_WORKERS, default 2).
CMD ["sh", "-c", "portal db upgrade && exec portal serve --host 0.0.0.0 --port 8000 --workers ${PORTAL_WORKERS:-2}"]

FROM python:3.12-slim
RUN apt-get update && apt-get install -y gcc libpq-dev
RUN pip install flask gunicorn
COPY . /srv
RUN useradd -m app && chmod 777 /srv
USER app
HEALTHCHECK CMD curl -f http://localhost:8000/ || exit 1
CMD ["gunicorn", "app:app"]

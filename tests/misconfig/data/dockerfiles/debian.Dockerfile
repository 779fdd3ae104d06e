FROM debian
RUN apt-get update
RUN apt-get -y install --no-install-recommends nginx && rm -rf /var/lib/apt/lists/*
ADD https://example.com/nginx.conf /etc/nginx/nginx.conf
ARG DB_PASSWORD
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]

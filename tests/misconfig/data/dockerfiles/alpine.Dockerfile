FROM alpine:3.20
RUN apk add curl bash \
    && curl -fsSL https://example.com/install.sh | sh
RUN sudo chown root /opt
USER root

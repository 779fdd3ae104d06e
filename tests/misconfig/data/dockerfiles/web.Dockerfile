FROM node:latest
WORKDIR /app
COPY package*.json ./
RUN npm install
ADD . /app
EXPOSE 3000 22
ENV NODE_ENV=production API_TOKEN=abcd1234efgh5678
CMD ["node", "server.js"]

package dev.stagefarm.cli.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.stream.ChunkedNioFile;
import io.netty.handler.stream.ChunkedWriteHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The Docker engine at {@code DOCKER_HOST} (default {@code unix:///var/run/docker.sock}, or
 * {@code tcp://HOST:PORT} in plain HTTP), reached with Netty's HTTP codec: {@code --load} sends
 * the docker tar to {@code POST /images/load}, as {@code docker load} does.
 */
final class DockerEngine {

    static final String DEFAULT_HOST = "unix:///var/run/docker.sock";

    private final String host;
    private final SocketAddress address;

    private DockerEngine(String host, SocketAddress address) {
        this.host = host;
        this.address = address;
    }

    /** The engine {@code DOCKER_HOST} names in {@code env}. */
    static DockerEngine fromEnvironment(Map<String, String> env) {
        String host = env.getOrDefault("DOCKER_HOST", "");
        if (host.isBlank()) {
            host = DEFAULT_HOST;
        }
        if (host.startsWith("unix://")) {
            return new DockerEngine(host, UnixDomainSocketAddress.of(host.substring("unix://".length())));
        }
        if (host.startsWith("tcp://")) {
            if ("1".equals(env.get("DOCKER_TLS_VERIFY"))) {
                throw new IllegalArgumentException("DOCKER_HOST " + host
                        + " with DOCKER_TLS_VERIFY: --load speaks plain HTTP only; load the type=docker,dest=FILE tar"
                        + " with docker load instead");
            }
            URI uri = URI.create(host);
            return new DockerEngine(host, InetSocketAddress.createUnresolved(uri.getHost(), uri.getPort()));
        }
        throw new IllegalArgumentException(
                "DOCKER_HOST " + host + ": expected unix:///PATH or tcp://HOST:PORT for --load");
    }

    String host() {
        return host;
    }

    /**
     * Loads a docker tar; returns what the engine says it loaded ("Loaded image: web:1").
     *
     * @throws IOException the engine is unreachable or refused the tar, in one sentence
     */
    List<String> load(Path tar) throws IOException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (FileChannel file = FileChannel.open(tar)) {
            CompletableFuture<FullHttpResponse> response = new CompletableFuture<>();
            Channel channel = new Bootstrap()
                    .group(group)
                    .channel(
                            address instanceof UnixDomainSocketAddress
                                    ? NioDomainSocketChannel.class
                                    : NioSocketChannel.class)
                    .handler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline()
                                    .addLast(new HttpClientCodec())
                                    .addLast(new HttpObjectAggregator(16 << 20))
                                    .addLast(new ChunkedWriteHandler())
                                    .addLast(new SimpleChannelInboundHandler<FullHttpResponse>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                                            response.complete(r.retainedDuplicate());
                                        }

                                        @Override
                                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                            response.completeExceptionally(cause);
                                            ctx.close();
                                        }

                                        @Override
                                        public void channelInactive(ChannelHandlerContext ctx) {
                                            response.completeExceptionally(
                                                    new IOException("the engine closed the connection"));
                                        }
                                    });
                        }
                    })
                    .connect(address)
                    .sync()
                    .channel();
            HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/images/load?quiet=1");
            request.headers()
                    .set(HttpHeaderNames.HOST, "docker")
                    .set(HttpHeaderNames.CONTENT_TYPE, "application/x-tar")
                    .set(HttpHeaderNames.CONTENT_LENGTH, file.size());
            channel.write(request);
            channel.writeAndFlush(new HttpChunkedInput(new ChunkedNioFile(file, 1 << 20)));
            FullHttpResponse r = response.get(10, TimeUnit.MINUTES);
            try {
                return answer(r.status().code(), r.content().toString(StandardCharsets.UTF_8));
            } finally {
                r.release();
                channel.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while loading into the Docker engine", e);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw unreachable(cause);
        } catch (IOException e) {
            throw e.getMessage() != null && e.getMessage().startsWith("the Docker engine") ? e : unreachable(e);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    private IOException unreachable(Throwable cause) {
        return new IOException(
                "cannot load into the Docker engine at " + host + " (" + cause.getMessage()
                        + "): start Docker or point DOCKER_HOST at it",
                cause);
    }

    /** The engine answers 200 with a JSON stream in which an error is one more message. */
    private List<String> answer(int status, String body) throws IOException {
        List<String> loaded = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : body.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode message;
            try {
                message = json.readTree(line);
            } catch (IOException notJson) {
                message = json.createObjectNode().put("message", line.strip());
            }
            String error = message.path("errorDetail")
                    .path("message")
                    .asText(message.path("error").asText(""));
            if (error.isEmpty() && status != 200) {
                error = message.path("message").asText("HTTP " + status);
            }
            if (!error.isEmpty()) {
                throw new IOException("the Docker engine at " + host + " refused the image: " + error);
            }
            String stream = message.path("stream").asText("").strip();
            if (!stream.isEmpty()) {
                loaded.add(stream);
            }
        }
        if (status != 200) {
            throw new IOException("the Docker engine at " + host + " refused the image: HTTP " + status);
        }
        return loaded;
    }
}

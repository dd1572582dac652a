package dev.stagefarm.common.net;

import java.net.InetSocketAddress;

/** A listen or dial address written {@code host:port}; {@code [::1]:5000} for IPv6. Port 0 asks for any free port. */
public record HostPort(String host, int port) {

    public HostPort {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("address needs a host, as in 127.0.0.1:5000");
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port " + port + " is outside 0..65535 (0 picks a free port)");
        }
    }

    /** Parses {@code host:port}; the message of a failure quotes the text and shows the expected form. */
    public static HostPort parse(String text) {
        String usage = "expected host:port such as 127.0.0.1:5000 (port 0 picks a free port), got '" + text + "'";
        if (text == null) {
            throw new IllegalArgumentException(usage);
        }
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException(usage);
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.indexOf(':') >= 0) {
            throw new IllegalArgumentException(usage + ": write an IPv6 host in brackets, as in [::1]:5000");
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(usage, e);
        }
        if (host.isBlank() || port < 0 || port > 65_535) {
            throw new IllegalArgumentException(usage);
        }
        return new HostPort(host, port);
    }

    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(host, port);
    }

    /** The same host with another port: how a listener reports the port it actually bound. */
    public HostPort withPort(int newPort) {
        return new HostPort(host, newPort);
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}

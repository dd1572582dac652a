package dev.stagefarm.worker.net;

import java.net.Inet4Address;

/** An IPv4 range, {@code 10.96.0.0/12}; steps get no IPv6, so only IPv4 ranges matter to them. */
public record Cidr(int network, int prefix) {

    public Cidr {
        if (prefix < 0 || prefix > 32) {
            throw new IllegalArgumentException("prefix length must be 0 to 32: " + prefix);
        }
        network = network & mask(prefix);
    }

    /**
     * @throws IllegalArgumentException with a sentence for the operator, e.g. for {@code --deny-net}
     */
    public static Cidr parse(String text) {
        String[] parts = text.strip().split("/", -1);
        String usage = "not an IPv4 range: " + text + " (expected ADDRESS/PREFIX such as 10.96.0.0/12)";
        if (parts.length > 2 || !parts[0].matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new IllegalArgumentException(usage);
        }
        int prefix;
        try {
            prefix = parts.length == 2 ? Integer.parseInt(parts[1]) : 32;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(usage);
        }
        if (prefix < 0 || prefix > 32) {
            throw new IllegalArgumentException(usage);
        }
        int address = 0;
        for (String octet : parts[0].split("\\.")) {
            int v = Integer.parseInt(octet);
            if (v > 255) {
                throw new IllegalArgumentException(usage);
            }
            address = (address << 8) | v;
        }
        return new Cidr(address, prefix);
    }

    public static Cidr of(Inet4Address address) {
        byte[] b = address.getAddress();
        return new Cidr(((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff), 32);
    }

    public boolean contains(Inet4Address address) {
        return (of(address).network & mask(prefix)) == network;
    }

    /** The {@code n}-th address in the range (1 is the first after the network address). */
    String host(int n) {
        return dotted(network + n);
    }

    private static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    private static String dotted(int a) {
        return ((a >>> 24) & 0xff) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
    }

    @Override
    public String toString() {
        return dotted(network) + "/" + prefix;
    }
}

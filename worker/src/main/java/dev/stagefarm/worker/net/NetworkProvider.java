package dev.stagefarm.worker.net;

/** Hands each RUN step the network it asked for ({@code default}, {@code none} or {@code host}). */
public interface NetworkProvider extends AutoCloseable {

    /** What {@code RUN --network=host} refuses with, unless both sides granted the entitlement. */
    String HOST_REFUSED = "RUN --network=host needs the entitlement network.host on both sides: start the worker"
            + " with --allow network.host and build with --allow network.host";

    /**
     * @param mode {@code default}, {@code none} or {@code host}
     * @throws NetworkException the mode is not allowed on this worker or its namespace could not be set up
     */
    StepNetwork acquire(String mode) throws NetworkException, InterruptedException;

    @Override
    void close();

    /**
     * No network but loopback for every step, whatever it asked for except {@code host}, which it
     * refuses. For tests of the executor that need no network, and a worker without CNI.
     */
    static NetworkProvider loopbackOnly() {
        return new NetworkProvider() {
            @Override
            public StepNetwork acquire(String mode) throws NetworkException {
                if (mode.equals("host")) {
                    throw new NetworkException(HOST_REFUSED);
                }
                return StepNetwork.ownEmptyNamespace();
            }

            @Override
            public void close() {}
        };
    }
}

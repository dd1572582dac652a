package dev.stagefarm.coordinator.plan;

import dev.stagefarm.proto.farm.FileMode;

/** A {@code --chmod} parsed by the dockerfile module, in the form workers apply without parsing. */
final class Chmod {

    private Chmod() {}

    static FileMode toProto(dev.stagefarm.dockerfile.Chmod chmod) {
        if (chmod.octal().isPresent()) {
            return FileMode.newBuilder().setOctal(chmod.octal().getAsInt()).build();
        }
        FileMode.Symbolic.Builder symbolic = FileMode.Symbolic.newBuilder();
        for (dev.stagefarm.dockerfile.Chmod.Action a : chmod.actions()) {
            symbolic.addActions(FileMode.Action.newBuilder()
                    .setWho(a.who())
                    .setOp(String.valueOf(a.op()))
                    .setPerms(a.perms()));
        }
        return FileMode.newBuilder().setSymbolic(symbolic).build();
    }
}

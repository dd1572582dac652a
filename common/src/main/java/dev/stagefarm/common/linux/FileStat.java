package dev.stagefarm.common.linux;

/** What statx(2) says of one file (the file itself when asked not to follow). */
public record FileStat(
        int mode,
        int uid,
        int gid,
        long size,
        int nlink,
        long ino,
        long dev,
        long rdev,
        long mtimeSeconds,
        int mtimeNanos) {

    public int type() {
        return mode & LinuxFiles.S_IFMT;
    }

    public boolean isDirectory() {
        return type() == LinuxFiles.S_IFDIR;
    }

    public boolean isSymlink() {
        return type() == LinuxFiles.S_IFLNK;
    }

    public boolean isRegular() {
        return type() == LinuxFiles.S_IFREG;
    }

    /** Permission bits with setuid, setgid and sticky. */
    public int permissions() {
        return mode & 07777;
    }
}

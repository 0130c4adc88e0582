// pgjdbc through a transaction pool (test_pooling.py): server-side prepared
// statements (prepareThreshold=1) executed across transactions while another
// connection holds a server connection, every other time after the backend it
// last ran on was terminated (args 3-5: a direct connection to the server), and a
// batch (one Sync for many Bind/Execute). Prints "key=value" lines.
import java.sql.*;
import java.util.*;

public class PoolClient {
    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", args[2]);
        props.setProperty("prepareThreshold", "1");
        try (Connection a = DriverManager.getConnection(args[0], props);
             Connection holder = DriverManager.getConnection(args[0], props);
             Connection killer = DriverManager.getConnection(args[3], args[4], args[5])) {
            Set<Integer> pids = new TreeSet<>();
            int last = 0;
            int right = 0;
            try (PreparedStatement ps = a.prepareStatement("SELECT ?::int * 2, pg_backend_pid()")) {
                // First on a server connection of its own (the test empties the
                // pool), which the holder then takes: the loop's statements run on
                // another one.
                ps.setInt(1, 0);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    pids.add(rs.getInt(2));
                    last = rs.getInt(2);
                }
                for (int i = 0; i < 6; i++) {
                    if (i % 2 == 1) {
                        try (PreparedStatement kill = killer.prepareStatement("SELECT pg_terminate_backend(?, 5000)")) {
                            kill.setInt(1, last);
                            kill.executeQuery().close();
                        }
                    }
                    holder.setAutoCommit(false);
                    int held;
                    try (Statement s = holder.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                        rs.next();
                        held = rs.getInt(1);
                    }
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        if (rs.getInt(1) == i * 2 && rs.getInt(2) != held) right++;
                        pids.add(rs.getInt(2));
                    }
                    holder.commit();
                    ps.setInt(1, i + 100);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        if (rs.getInt(1) == (i + 100) * 2) right++;
                        pids.add(rs.getInt(2));
                        last = rs.getInt(2);
                    }
                }
            }
            System.out.println("right=" + right);
            System.out.println("pids=" + pids.size());
            a.setAutoCommit(false);
            try (PreparedStatement ps = a.prepareStatement("INSERT INTO pool_items (n) VALUES (?)")) {
                for (int i = 0; i < 20; i++) {
                    ps.setInt(1, i);
                    ps.addBatch();
                }
                System.out.println("batch=" + ps.executeBatch().length);
            }
            a.commit();
        }
    }
}

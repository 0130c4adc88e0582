// pgjdbc through pgmoat: runs the scenario named on the command line and prints
// what the app observed, one "key=value" per line, for test_clients.py.
import java.sql.*;
import java.util.Properties;

public class Client {
    static void observe(String key, Callable c) {
        try {
            System.out.println(key + ".ok=" + c.call());
        } catch (SQLException e) {
            System.out.println(key + ".sqlstate=" + e.getSQLState());
            System.out.println(key + ".message=" + e.getMessage().replace('\n', ' '));
        }
    }

    interface Callable { Object call() throws SQLException; }

    public static void main(String[] args) throws Exception {
        String scenario = args[0];
        Properties props = new Properties();
        props.setProperty("user", args[2]);
        props.setProperty("password", args[3]);
        try (Connection conn = DriverManager.getConnection(args[1], props)) {
            if (scenario.equals("crud")) {
                observe("insert", () -> {
                    try (PreparedStatement ps = conn.prepareStatement(
                            "INSERT INTO jdbc_items (name, qty) VALUES (?, ?)")) {
                        int n = 0;
                        for (int i = 0; i < 10; i++) {  // past prepareThreshold: server-side prepared
                            ps.setString(1, "nut" + i);
                            ps.setInt(2, i);
                            n += ps.executeUpdate();
                        }
                        return n;
                    }
                });
                observe("select", () -> {
                    try (PreparedStatement ps = conn.prepareStatement("SELECT sum(qty) FROM jdbc_items WHERE name LIKE ?")) {
                        ps.setString(1, "nut%");
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            return rs.getLong(1);
                        }
                    }
                });
                observe("literal", () -> {
                    try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery(
                            "SELECT * FROM jdbc_items WHERE name = 'nut1'")) {
                        return "no error";
                    }
                });
                observe("metadata", () -> {
                    DatabaseMetaData md = conn.getMetaData();
                    try (ResultSet rs = md.getColumns(null, "public", "client_rows", null)) {
                        int n = 0;
                        while (rs.next()) n++;
                        return n;
                    }
                });
                observe("after", () -> {
                    try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
                        rs.next();
                        return rs.getInt(1);
                    }
                });
            } else if (scenario.equals("transaction")) {
                conn.setAutoCommit(false);
                try (PreparedStatement ps = conn.prepareStatement("INSERT INTO client_rows (source, n) VALUES (?, ?)")) {
                    ps.setString(1, "jdbc");
                    ps.setInt(2, 1);
                    ps.executeUpdate();
                }
                observe("rejected", () -> {
                    try (Statement s = conn.createStatement()) {
                        return s.executeUpdate("DELETE FROM client_rows");
                    }
                });
                observe("commit", () -> {
                    conn.commit();
                    return "committed";
                });
            }
        }
    }
}

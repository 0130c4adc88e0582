// What a pgjdbc-based GUI (DBeaver, DataGrip) does when a person opens a
// connection and browses it: DatabaseMetaData over the schema, then a data view
// that pages through a table with a cursor (or, with "read-all", reads all of
// it a page at a time). Prints "key.ok=<rows>" or
// "key.sqlstate=…" per step, one per line, for test_people.py.
import java.sql.*;
import java.util.Properties;

public class SchemaBrowser {
    interface Step { ResultSet run(DatabaseMetaData md) throws SQLException; }

    static void count(String key, Connection conn, Step step) {
        try (ResultSet rs = step.run(conn.getMetaData())) {
            int n = 0;
            while (rs.next()) n++;
            System.out.println(key + ".ok=" + n);
        } catch (SQLException e) {
            System.out.println(key + ".sqlstate=" + e.getSQLState());
            System.out.println(key + ".message=" + e.getMessage().replace('\n', ' '));
        }
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", args[2]);
        props.setProperty("ApplicationName", "SchemaBrowser");
        try (Connection conn = DriverManager.getConnection(args[0], props)) {
            if (args.length > 3 && args[3].equals("read-all")) {
                // "Fetch all rows" of a data view: the whole table, a page at a time.
                conn.setAutoCommit(false);
                try (Statement s = conn.createStatement()) {
                    s.setFetchSize(500);
                    try (ResultSet rs = s.executeQuery("SELECT * FROM order_items")) {
                        int n = 0;
                        while (rs.next()) n++;
                        System.out.println("all_rows.ok=" + n);
                    }
                } catch (SQLException e) {
                    System.out.println("all_rows.sqlstate=" + e.getSQLState());
                }
                return;
            }
            count("catalogs", conn, md -> md.getCatalogs());
            count("schemas", conn, md -> md.getSchemas());
            count("table_types", conn, md -> md.getTableTypes());
            count("tables", conn, md -> md.getTables(null, "public", "%", null));
            count("columns", conn, md -> md.getColumns(null, "public", "%", "%"));
            count("primary_keys", conn, md -> md.getPrimaryKeys(null, "public", "order_items"));
            count("imported_keys", conn, md -> md.getImportedKeys(null, "public", "order_items"));
            count("exported_keys", conn, md -> md.getExportedKeys(null, "public", "customers"));
            count("cross_reference", conn, md -> md.getCrossReference(null, "public", "orders", null, "public", "order_items"));
            count("index_info", conn, md -> md.getIndexInfo(null, "public", "orders", false, true));
            count("functions", conn, md -> md.getFunctions(null, "public", "%"));
            count("function_columns", conn, md -> md.getFunctionColumns(null, "public", "%", "%"));
            count("procedures", conn, md -> md.getProcedures(null, "public", "%"));
            count("type_info", conn, md -> md.getTypeInfo());
            count("udts", conn, md -> md.getUDTs(null, "public", "%", null));
            count("table_privileges", conn, md -> md.getTablePrivileges(null, "public", "%"));
            count("column_privileges", conn, md -> md.getColumnPrivileges(null, "public", "customers", "%"));
            count("best_row_identifier", conn, md -> md.getBestRowIdentifier(null, "public", "orders",
                                                                              DatabaseMetaData.bestRowSession, true));
            // The data view: a read-only transaction and the first page of a table
            // bigger than the row cap, read through a cursor (fetch size), then closed.
            conn.setAutoCommit(false);
            conn.setReadOnly(true);
            try (Statement s = conn.createStatement()) {
                s.setFetchSize(200);
                try (ResultSet rs = s.executeQuery("SELECT * FROM order_items")) {
                    int n = 0;
                    while (n < 200 && rs.next()) n++;
                    System.out.println("first_page.ok=" + n);
                }
                conn.commit();
            } catch (SQLException e) {
                System.out.println("first_page.sqlstate=" + e.getSQLState());
                System.out.println("first_page.message=" + e.getMessage().replace('\n', ' '));
            }
        }
    }
}

package apex.neo4j;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;

/**
 * Runs an embedded Neo4j DBMS whose only door is Bolt on a loopback address, so tests and benches
 * get a real Neo4j without a Neo4j distribution (only Maven Central is reachable here).
 *
 * Usage: Neo4jLauncher HOME [PORT] [PAGECACHE_MB]
 * Prints "READY bolt://127.0.0.1:PORT neo4j VERSION" on stdout once the default database answers
 * a query; scripts/services.sh waits for that line (and then checks with a real driver query).
 */
public final class Neo4jLauncher {
    private static final String HOST = "127.0.0.1";

    private Neo4jLauncher() {}

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 1) {
            System.err.println("usage: Neo4jLauncher HOME [PORT] [PAGECACHE_MB]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 57687;
        long pageCacheMb = args.length > 2 ? Long.parseLong(args[2]) : 256;

        DatabaseManagementService managementService;
        try {
            managementService = new DatabaseManagementServiceBuilder(home)
                    .setConfig(BoltConnector.enabled, true)
                    .setConfig(BoltConnector.listen_address, new SocketAddress(HOST, port))
                    // Test servers only: the Bolt port is bound to loopback and carries no secrets.
                    .setConfig(GraphDatabaseSettings.auth_enabled, false)
                    .setConfig(HttpConnector.enabled, false)
                    .setConfig(HttpsConnector.enabled, false)
                    // The machine is shared by several test processes: keep the page cache modest.
                    .setConfig(GraphDatabaseSettings.pagecache_memory, pageCacheMb * 1024L * 1024L)
                    .build();
        } catch (RuntimeException e) {
            System.err.println("FAILED to start Neo4j: " + e);
            e.printStackTrace();
            System.exit(1);
            return;
        }

        // SIGTERM (services.sh down) runs this hook, so the store is closed cleanly and the next
        // start needs no recovery.
        CountDownLatch stopped = new CountDownLatch(1);
        final DatabaseManagementService service = managementService;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("STOPPING");
            service.shutdown();
            System.out.println("STOPPED");
            stopped.countDown();
        }, "neo4j-shutdown"));

        GraphDatabaseService db = managementService.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        String version = db.executeTransactionally(
                "CALL dbms.components() YIELD versions RETURN versions[0] AS version",
                Map.of(),
                result -> String.valueOf(result.next().get("version")));
        System.out.println("READY bolt://" + HOST + ":" + port + " neo4j " + version);
        System.out.flush();
        stopped.await();
    }
}

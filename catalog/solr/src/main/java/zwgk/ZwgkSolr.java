package zwgk;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.solr.client.api.util.SolrVersion;
import org.apache.solr.core.CoreContainer;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * Runs one standalone Apache Solr 9 node for the local CKAN stack (started by ckan/stack.sh).
 *
 * <p>Solr's own embedded Jetty launcher serves the Solr home on 127.0.0.1:PORT under /solr,
 * exactly like a `bin/solr start` node minus the admin UI. The PID file is written only once
 * every core has loaded, so its presence means "Solr is serving"; it is removed on shutdown.
 *
 * <p>Usage: java -jar zwgk-solr.jar SOLR_HOME PORT PID_FILE
 */
public final class ZwgkSolr {

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: java -jar zwgk-solr.jar SOLR_HOME PORT PID_FILE");
      System.exit(2);
    }
    Path home = Path.of(args[0]).toAbsolutePath();
    int port = Integer.parseInt(args[1]);
    Path pidFile = Path.of(args[2]).toAbsolutePath();

    // Our own shutdown hook instead of Jetty's stopAtShutdown, so the PID file goes only
    // after Solr has committed and closed its cores.
    JettyConfig config =
        JettyConfig.builder().setPort(port).setContext("/solr").stopAtShutdown(false).build();
    JettySolrRunner solr = new JettySolrRunner(home.toString(), config);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(solr, pidFile), "zwgk-solr-stop"));
    solr.start();

    // A broken core (bad schema.xml / solrconfig.xml) does not stop Jetty from starting:
    // fail loudly instead of serving a node without it.
    Map<String, CoreContainer.CoreLoadFailure> failures =
        solr.getCoreContainer().getCoreInitFailures();
    if (!failures.isEmpty()) {
      failures.forEach((core, f) -> {
        System.err.println("core " + core + " failed to load:");
        f.exception.printStackTrace();
      });
      System.exit(1);
    }

    Files.writeString(pidFile, ProcessHandle.current().pid() + "\n");
    System.out.printf("zwgk-solr: Solr %s serving %s at %s%n",
        SolrVersion.LATEST, home, solr.getBaseUrl());
    Thread.currentThread().join(); // serve until SIGTERM runs the shutdown hook
  }

  private static void stop(JettySolrRunner solr, Path pidFile) {
    try {
      solr.stop();
    } catch (Exception e) {
      e.printStackTrace();
    }
    try {
      Files.deleteIfExists(pidFile);
    } catch (Exception e) {
      e.printStackTrace();
    }
  }
}

package dev.lodestar.e2e;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.TestAbortedException;

/**
 * On a failed test (or a failed {@code @BeforeAll}/{@code @AfterAll}), appends the tail of every process log
 * of the class's {@link LocalStack} (or {@link PdStack}) to the failure, so the Failsafe report says what the
 * stack saw. The full logs stay in {@code target/e2e-logs/<class>/}.
 */
public final class DumpLogsOnFailure implements TestExecutionExceptionHandler, LifecycleMethodExecutionExceptionHandler {
    private static final int LINES = 40;

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        throw withLogs(context, throwable);
    }

    @Override
    public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        throw withLogs(context, throwable);
    }

    @Override
    public void handleAfterAllMethodExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        throw withLogs(context, throwable);
    }

    private static Throwable withLogs(ExtensionContext context, Throwable throwable) {
        if (throwable instanceof TestAbortedException) {
            return throwable;
        }
        String tails = LocalStack.tails(context.getRequiredTestClass(), LINES)
                + PdStack.tails(context.getRequiredTestClass(), LINES);
        if (tails.isEmpty()) {
            return throwable;
        }
        System.err.println("e2e: " + context.getDisplayName() + " failed: " + throwable + "\n" + tails);
        AssertionError error = new AssertionError(throwable + "\n\n---- process logs (last " + LINES
                + " lines each) ----\n" + tails, throwable);
        return error;
    }
}

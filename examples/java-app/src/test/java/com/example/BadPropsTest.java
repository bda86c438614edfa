package com.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.StackProps;
import software.amazon.jsii.JsiiException;

/** Bad props raise a Java exception that carries the TypeScript message word for word. */
class BadPropsTest {
    @Test
    void maxTasksZeroRaisesTheTypeScriptMessage() throws Exception {
        // Written by test/packaging/typical-app.ts: what TypeScript says for the same props.
        String expected = Files.readString(Path.of(System.getProperty("badPropsMessageFile")), StandardCharsets.UTF_8);
        assertTrue(expected.contains("`maxTasks` must be a whole number from 1 to 5000, got 0"), expected);

        StackProps props = StackProps.builder()
                .env(Environment.builder().account("123456789012").region("eu-west-1").build())
                .build();
        JsiiException raised = assertThrows(JsiiException.class, () -> new TypicalStack(new App(), "Typical", props, 0));
        // The jsii runtime appends the JavaScript stack after the message, on its own lines.
        String message = raised.getMessage();
        assertEquals(expected, message.substring(0, Math.min(message.length(), expected.length())));
        assertTrue(message.length() == expected.length() || message.charAt(expected.length()) == '\n', message);
    }
}

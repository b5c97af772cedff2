/** Implementation details shared by all backends; not API, may change without notice. */
package org.gpulrp.internal;
